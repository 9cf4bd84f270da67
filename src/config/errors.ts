/**
 * A configuration problem a user can act on: which file, which field, what was
 * expected (and what was found). Start-up prints it and exits non-zero; a hot reload
 * logs it and keeps the last good configuration. The wording is the gateway's own.
 */
export class ConfigError extends Error {
  readonly file: string | undefined;
  readonly path: string;
  readonly expected: string;
  readonly received: string | undefined;

  constructor(opts: { path: string; expected: string; file?: string; received?: string }) {
    const where = opts.file ? `${opts.file}: ` : "";
    const got = opts.received !== undefined ? ` (got ${opts.received})` : "";
    super(`${where}${opts.path || "<root>"}: ${opts.expected}${got}`);
    this.name = "ConfigError";
    this.file = opts.file;
    this.path = opts.path;
    this.expected = opts.expected;
    this.received = opts.received;
  }

  /** The same error attributed to a file (used by the loader once it knows the file name). */
  inFile(file: string): ConfigError {
    return new ConfigError({
      file,
      path: this.path,
      expected: this.expected,
      ...(this.received !== undefined ? { received: this.received } : {}),
    });
  }
}
