import { describe, expect, it } from 'vitest';
import { mappingsProblem, sourceMapProblem } from './check-map.ts';

describe('checking uploaded source maps', () => {
  it('passes the mappings real tools write', () => {
    // From esbuild: two lines, segments of 1, 4 and 5 numbers.
    expect(sourceMapProblem({ version: 3, sources: ['a.ts', 'b.ts'], names: ['x'], mappings: 'AAAA,SAASA;;ACAA,E' })).toBeNull();
    expect(sourceMapProblem({ version: 3, sources: [], names: [], mappings: '' })).toBeNull();
    expect(sourceMapProblem({ version: 3, sections: [{ offset: { line: 0, column: 0 }, map: { version: 3, sources: ['a.ts'], mappings: 'AAAA' } }] })).toBeNull();
  });

  it('says what is wrong and where', () => {
    expect(mappingsProblem('!!!!', 1, 0)).toBe('"mappings" at generated line 1, segment 1: "!" is not a base64 digit');
    expect(mappingsProblem('AAAA;AA', 1, 0)).toBe('"mappings" at generated line 2, segment 1: 2 numbers in a segment (1, 4 or 5 expected)');
    expect(mappingsProblem('AAAA,g', 1, 0)).toBe('"mappings" at generated line 1, segment 2: a number is cut off');
    // The third segment moves to source 1 (C = +1) of a map with one source.
    expect(mappingsProblem('AAAA,CAAA,CCAA', 1, 0)).toBe('"mappings" at generated line 1, segment 3: source 1 does not exist ("sources" has 1)');
    expect(mappingsProblem('AAAAA', 1, 0)).toBe('"mappings" at generated line 1, segment 1: name 0 does not exist ("names" has 0)');
    expect(mappingsProblem('ADAA', 1, 0)).toBe('"mappings" at generated line 1, segment 1: source -1 does not exist ("sources" has 1)');
    expect(mappingsProblem('AAAA,AADA', 1, 0)).toBe('"mappings" at generated line 1, segment 2: the original line or column is negative');
    expect(mappingsProblem('CAAA;D', 1, 0)).toBe('"mappings" at generated line 2, segment 1: the generated column is negative');
    expect(sourceMapProblem({ version: 3, sections: [{ map: { version: 3, sources: [], mappings: 'AAAA' } }] })).toBe(
      'sections[0].map: "mappings" at generated line 1, segment 1: source 0 does not exist ("sources" has 0)',
    );
  });
});
