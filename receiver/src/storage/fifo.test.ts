import { describe, expect, it } from 'vitest';
import { Fifo } from './fifo.ts';

describe('Fifo', () => {
  it('keeps order through shifts, a take-all and a put-back, at a length Array#unshift(...) cannot take', () => {
    const queue = new Fifo<number>();
    const n = 300_000;
    for (let i = 0; i < n; i++) queue.push(i);
    for (let i = 0; i < 1000; i++) expect(queue.shift()).toBe(i);
    expect(queue.length).toBe(n - 1000);
    const taken = queue.takeAll();
    expect(queue.length).toBe(0);
    expect(queue.shift()).toBeUndefined();
    queue.push(-1); // queued while the others were out
    queue.putBack(taken);
    expect(queue.length).toBe(n - 1000 + 1);
    expect(queue.shift()).toBe(1000);
    let inOrder = 0;
    for (let i = 1001; i < n; i++) if (queue.shift() === i) inOrder++;
    expect(inOrder).toBe(n - 1001);
    expect(queue.shift()).toBe(-1);
    expect(queue.length).toBe(0);
  });

});
