import { PaymentDeclinedError } from './errors.js';

function authorize(card, amount) {
  if (card.expires < new Date()) throw new PaymentDeclinedError('card expired', amount);
  return { id: `auth-${Date.now()}`, amount };
}

export function pay(amount) {
  const card = { number: '4111 1111 1111 1111', expires: new Date('2020-01-31') };
  return authorize(card, amount);
}
