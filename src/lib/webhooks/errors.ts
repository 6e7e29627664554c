/** Why a signed request was refused. Callers map it to the one API error (401). */
export type WebhookFailure = "missing_headers" | "bad_timestamp" | "bad_signature";

export class WebhookVerificationError extends Error {
  override readonly name = "WebhookVerificationError";

  constructor(
    readonly reason: WebhookFailure,
    message: string,
  ) {
    super(message);
  }
}
