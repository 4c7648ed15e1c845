// The to-do list, loaded on demand as its own chunk.
export class TodoList {
  constructor(element) {
    this.element = element;
    this.items = [];
  }

  add(text) {
    // Bug: each to-do keeps a reference to its list, which makes the list cyclic.
    this.items.push({ text, done: false, list: this });
    this.render();
  }

  render() {
    this.element.replaceChildren(
      ...this.items.map((item) => {
        const li = document.createElement('li');
        li.textContent = item.text;
        return li;
      }),
    );
  }

  serialize() {
    return JSON.stringify({ items: this.items });
  }
}

export function scheduleAutosave(list, store) {
  setTimeout(() => {
    store.setItem('todos', list.serialize());
  }, 500);
}
