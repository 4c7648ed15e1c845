import { describe, expect, it } from 'vitest';
import { indexScopes } from './scope.ts';

const SOURCE = `import { api } from './api';

export class Cart {
  private items: number[] = [];
  total(): number {
    return this.items.reduce((a, b) => a + b, 0);
  }
  static async load<T>(id: T): Promise<Cart> {
    const raw = await api.get(\`/carts/\${id}\`, { retry: { count: 2 } });
    return Object.assign(new Cart(), raw);
  }
}

function checkout(cart: Cart) {
  const re = /[{}]/g; // braces in a regex and a string: "{"
  [1, 2].forEach(function (x) {
    cart.total();
  });
  return cart;
}

export const onClick = async (event: Event): Promise<void> => {
  checkout(await Cart.load(1));
};

const handlers = {
  submit(form) {
    return form.send();
  },
  reset: function () {
    return null;
  },
};

const short = (x) => x.value.trim();
`;

const at = (needle: string): string | null => {
  const lines = SOURCE.split('\n');
  const line = lines.findIndex((l) => l.includes(needle));
  return indexScopes(SOURCE).enclosing(line + 1, lines[line]!.indexOf(needle))?.name ?? null;
};

describe('indexScopes', () => {
  it('names the enclosing original function of a position', () => {
    expect(at('this.items.reduce')).toBe('Cart.total');
    expect(at('a + b')).toBe('Cart.total/<');
    expect(at('api.get')).toBe('Cart.load');
    expect(at('Object.assign')).toBe('Cart.load');
    expect(at('cart.total()')).toBe('checkout/<');
    expect(at('return cart;')).toBe('checkout');
    expect(at('checkout(await')).toBe('onClick');
    expect(at('form.send')).toBe('handlers.submit');
    expect(at('return null')).toBe('reset');
    expect(at('x.value.trim')).toBe('short');
    expect(at("import { api }")).toBeNull();
  });

  it('survives minified and hostile input', () => {
    const minified = 'var r=class{total(){return this.items.reduce((n,i)=>n+i.price,0)}};function s(e){return e.total()}var a=()=>s(new r);';
    const index = indexScopes(minified);
    expect(index.enclosing(1, minified.indexOf('this.items'))?.name).toBe('r.total');
    expect(index.enclosing(1, minified.indexOf('e.total'))?.name).toBe('s');
    expect(index.enclosing(1, minified.indexOf('s(new'))?.name).toBe('a');
    expect(indexScopes('}}}{{{(((`${`').enclosing(1, 3)).toBeNull();
  });

  // What naming a minified function through the source map needs: where its own name and its
  // class's name are, and for an anonymous one, the function its `outer/<` name comes from.
  it('gives the name tokens of a minified function, its class, and the function around an anonymous one', () => {
    const minified = 'var r=class{total(){return this.items.reduce((n,i)=>n+i.price,0)}};var o=class{constructor(t){n(this,"onClick",()=>{t.x()})}};function s(e){return e.total()}';
    const index = indexScopes(minified);
    const at = (needle: string): number => minified.indexOf(needle);
    const total = index.enclosing(1, at('this.items'))!;
    expect(total.nameToken).toEqual({ text: 'total', at: { line: 1, column: at('total(') } });
    expect(total.ownerToken).toEqual({ text: 'r', at: { line: 1, column: at('r=class') } });
    const callback = index.enclosing(1, at('n+i.price'))!;
    expect(callback).toMatchObject({ name: 'r.total/<', nameToken: null, ownerToken: null });
    expect(callback.outer).toBe(total);
    // esbuild's class field for targets before es2022: the string key names the arrow, as is.
    expect(index.enclosing(1, at('t.x()'))).toMatchObject({ name: 'onClick', nameToken: { text: 'onClick', at: { line: 1, column: at('onClick') }, literal: true }, ownerToken: null });
    expect(index.enclosing(1, at('e.total'))).toMatchObject({ name: 's', nameToken: { text: 's' }, ownerToken: null, outer: null });
  });

  // Looking back from each `)` for its `(` took time quadratic in the source: 128 KB of this
  // took 5 s and 250 KB about 40 s, with the event loop held (a 2 MB source: hours); so did
  // looking up the stack for each arrow's enclosing function in deep nesting. Now it is
  // milliseconds; the test's timeout is the check.
  it('indexes 250 KB of unbalanced parentheses, deep nesting and arrows at once', { timeout: 5_000 }, () => {
    const hostile = 'x)=>1'.repeat(50_000) + '<a>(b)=>c'.repeat(2_000) + '{'.repeat(40_000) + 'x=>1,'.repeat(40_000);
    const index = indexScopes(hostile);
    expect(index.enclosing(1, hostile.length - 1)).not.toBeUndefined();
  });
});
