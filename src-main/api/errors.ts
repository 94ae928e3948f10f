import type { ApiErrorCode, ApiErrorData } from './types'

/** The one error type that crosses the contract: a code a program can act on and a message a person can read. */
export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message)
    this.name = 'ApiError'
  }

  toData(): ApiErrorData {
    return { code: this.code, message: this.message, details: this.details }
  }

  static from(error: unknown): ApiError {
    if (error instanceof ApiError) return error
    if (isErrorData(error)) return new ApiError(error.code, error.message, error.details)
    if (error instanceof Error) {
      // Problems in the user's file (encoding, syntax, unknown shape) are theirs to fix.
      const code = error.name === 'FileFormatError' ? 'invalid_argument' : error.name === 'AbortError' ? 'cancelled' : 'failed'
      return new ApiError(code, error.message)
    }
    return new ApiError('failed', String(error))
  }
}

function isErrorData(value: unknown): value is ApiErrorData {
  return typeof value === 'object' && value !== null && 'code' in value && 'message' in value
}
