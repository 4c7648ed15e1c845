import { Cart, formatPrice } from './cart.js';
import { checkout } from './checkout.js';
import { refreshStock } from './inventory.js';
import { pay } from './payment.js';

const $ = (id) => document.getElementById(id);
const showStatus = (text) => {
  $('status').textContent = text;
};

const cart = new Cart();
cart.add('mug', 2);
cart.add('tea');

function renderCart() {
  $('cart').replaceChildren(
    ...cart.describe().map((text) => {
      const li = document.createElement('li');
      li.textContent = text;
      return li;
    }),
  );
  try {
    $('total').textContent = formatPrice(cart.total());
  } catch {
    $('total').textContent = '–';
  }
}

$('add-gift-card').addEventListener('click', () => {
  cart.add('gift-card');
  renderCart();
});

$('bug-checkout').addEventListener('click', () => {
  if (!cart.lines.some((l) => l.productId === 'gift-card')) cart.add('gift-card');
  renderCart();
  checkout(cart, showStatus);
});

$('bug-inventory').addEventListener('click', () => {
  showStatus('Refreshing stock…');
  refreshStock(document.baseURI).then((items) => showStatus(`${items.length} products in stock.`));
});

$('bug-payment').addEventListener('click', () => {
  const receipt = pay(cart.lines.length);
  showStatus(`Paid: ${receipt.id}`);
});

const todosReady = import('./todos.js').then(({ TodoList, scheduleAutosave }) => {
  const list = new TodoList($('todos'));
  list.add('Restock the mugs');
  $('todo-form').addEventListener('submit', (event) => {
    event.preventDefault();
    list.add($('todo-text').value);
    $('todo-text').value = '';
  });
  return { list, scheduleAutosave };
});

$('bug-autosave').addEventListener('click', async () => {
  const { list, scheduleAutosave } = await todosReady;
  showStatus('Autosaving in half a second…');
  scheduleAutosave(list, window.localStorage);
});

renderCart();
