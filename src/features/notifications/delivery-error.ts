/**
 * A delivery that did not happen. `permanent` failures (a refused address, a 5xx SMTP reply
 * for the recipient) are not retried: repeating them cannot succeed and may hurt a reputation.
 */
export class DeliveryError extends Error {
  override readonly name: string = "DeliveryError";

  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
  }
}

/** A webhook URL or address that the policy refuses; never retried. */
export class TargetRefusedError extends DeliveryError {
  override readonly name = "TargetRefusedError";

  constructor(message: string) {
    super(message, true);
  }
}
