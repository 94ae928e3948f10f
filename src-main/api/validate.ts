import { z } from 'zod'
import { contract, isMethodName, type MethodName, type ParsedArgsOf } from './contract'
import { ApiError } from './errors'

/** Validates a method name and its arguments as they arrive from any door; throws ApiError('invalid_argument'). */
export function parseCall<M extends MethodName>(method: unknown, args: unknown): { method: M; args: ParsedArgsOf<M> } {
  if (!isMethodName(method)) throw new ApiError('invalid_argument', `unknown method ${JSON.stringify(method)}`)
  const result = contract[method].args.safeParse(args ?? {})
  if (!result.success) throw new ApiError('invalid_argument', `${method}: ${describeIssues(result.error)}`, result.error.issues)
  return { method: method as M, args: result.data as ParsedArgsOf<M> }
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const where = issue.path.length ? issue.path.join('.') : 'arguments'
      return `${where}: ${issue.message}`
    })
    .join('; ')
}
