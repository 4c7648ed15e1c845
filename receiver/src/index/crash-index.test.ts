import { describe, expect, it } from 'vitest';
import { createCrashId } from '../../../shared/src/crash-id.ts';
import { CrashIndex } from './crash-index.ts';

describe('the marks of deletions under way', () => {
  it('are ended by unmarkDeleting for any spelling of the ID markDeleting took', () => {
    const index = CrashIndex.open(':memory:');
    try {
      const bare = createCrashId(new Date());
      const spellings = [bare, `bp-${bare}`, `BP-${bare.toUpperCase()}`];
      for (const marked of spellings) {
        for (const unmarked of spellings) {
          index.markDeleting(marked);
          expect(index.deletionsUnderWay(), `marked as ${marked}`).toEqual([bare]);
          index.unmarkDeleting(unmarked);
          expect(index.deletionsUnderWay(), `marked as ${marked}, unmarked as ${unmarked}`).toEqual([]);
        }
      }
      // What is no crash ID marks nothing and unmarks nothing.
      index.markDeleting(bare);
      index.markDeleting('not-a-crash-id');
      index.unmarkDeleting('not-a-crash-id');
      expect(index.deletionsUnderWay()).toEqual([bare]);
    } finally {
      index.close();
    }
  });
});
