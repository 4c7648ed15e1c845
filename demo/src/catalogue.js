// Products the shop sells. The gift card was taken off sale, but carts may still hold it.
export const catalogue = new Map([
  ['mug', { name: 'Enamel mug', price: { amount: 1200, currency: 'EUR' } }],
  ['tea', { name: 'Loose leaf tea', price: { amount: 850, currency: 'EUR' } }],
  ['towel', { name: 'Tea towel', price: { amount: 990, currency: 'EUR' } }],
]);

export function findProduct(id) {
  return catalogue.get(id);
}
