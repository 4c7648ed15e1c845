export class PaymentDeclinedError extends Error {
  constructor(reason, amount) {
    super(`Payment of ${amount} declined: ${reason}`);
    this.name = 'PaymentDeclinedError';
    this.reason = reason;
  }
}
