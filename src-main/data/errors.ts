/**
 * A file that cannot be read as a dataset at all (wrong encoding, broken syntax, unknown shape).
 * Bad individual records are not errors: readers report them as RowProblems and go on.
 *
 * `message` is self-contained for display ("data.csv, line 4: ..."); `detail` is the bare reason.
 */
export class FileFormatError extends Error {
  readonly detail: string

  constructor(message: string, public file: string, public location?: string) {
    super(location ? `${file}, ${location}: ${message}` : `${file}: ${message}`)
    this.name = 'FileFormatError'
    this.detail = message
  }
}
