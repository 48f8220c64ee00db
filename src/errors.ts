/**
 * Every failure is an Error with a `code`: the service's business code (a number, 10000 to
 * 40000; registration's are its own, 6289 among them) or one of EINVAL, ETOOBIG, ETIMEDOUT,
 * ENETWORK, EHTTP (with `status`), EPROTO, ESTORAGE (a registered secret, or a queued message,
 * that could not be written), and the queue's EFULL (refused or dropped for its budget) and
 * ECORRUPT (a damaged record).
 */
export interface ClientError extends Error {
  code: ErrorCode;
  status?: number;
  messageId?: string;
  /** The transport's own error, where the client reports it as ENETWORK. */
  cause?: unknown;
}

/** The library's own codes, or the service's business code (a number). */
export type ErrorCode = "EINVAL" | "ETOOBIG" | "ETIMEDOUT" | "ENETWORK" | "EHTTP" | "EPROTO" | "ESTORAGE" | "EFULL" | "ECORRUPT" | number;

export function error(code: ErrorCode, message: string): ClientError {
  var e = new Error(message) as ClientError;
  e.code = code;
  return e;
}
