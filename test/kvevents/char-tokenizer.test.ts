import { expect, test } from "bun:test";
import { charTokens } from "../../src/kvevents/char-tokenizer.ts";
import { Tokenizer } from "../../src/simulator/tokenizer.ts";

test("the gateway's tokenizer gives the simulator's ids, ASCII or not, whatever the length", () => {
  const sim = new Tokenizer();
  const alphabet = "abcXYZ 019\n{}\"'\u00e9\u4e2d\ud83d\ude00\u0000\u007f";
  let seed = 7;
  for (let round = 0; round < 200; round++) {
    let text = "";
    const len = round % 37;
    for (let i = 0; i < len; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      text += alphabet[seed % alphabet.length];
    }
    expect(Array.from(charTokens(text))).toEqual(sim.encode(text));
  }
  expect(Array.from(charTokens(""))).toEqual([]);
});
