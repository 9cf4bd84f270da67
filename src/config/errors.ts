/**
 * A configuration problem a user can act on: which file, which field, what was
 * expected. Start-up prints it and exits non-zero; a hot reload logs it and keeps
 * the last good configuration.
 */
export class ConfigError extends Error {
  readonly file: string | undefined;
  readonly path: string;
  readonly expected: string;

  constructor(opts: { path: string; expected: string; file?: string; received?: string }) {
    const where = opts.file ? `${opts.file}: ` : "";
    const got = opts.received !== undefined ? ` (received ${opts.received})` : "";
    super(`${where}${opts.path || "<root>"}: ${opts.expected}${got}`);
    this.name = "ConfigError";
    this.file = opts.file;
    this.path = opts.path;
    this.expected = opts.expected;
  }

  /** The same error attributed to a file (used by the loader once it knows the file name). */
  inFile(file: string): ConfigError {
    return new ConfigError({ file, path: this.path, expected: this.expected });
  }
}
