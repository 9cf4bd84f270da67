import * as v from "valibot";

/** `maxNumOfEndpoints` of every picker: how many endpoints to return (primary + fallbacks). */
export const MaxNumOfEndpoints = v.optional(
  v.pipe(v.number(), v.integer("an integer"), v.minValue(1, "an integer >= 1"), v.maxValue(1000)),
  1,
);

export const PickerParameters = v.strictObject({ maxNumOfEndpoints: MaxNumOfEndpoints });
