import { formatPrice } from './cart.js';

export function checkout(cart, showStatus) {
  const total = cart.total();
  showStatus(`Checked out ${cart.lines.length} items for ${formatPrice(total)}.`);
  return total;
}
