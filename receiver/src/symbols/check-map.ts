/**
 * Checks an uploaded source map's `mappings` the way a decoder will read them, so a broken map
 * is refused at upload (where a build job sees the error) rather than at the first crash.
 */

const BASE64 = new Int8Array(128).fill(-1);
for (const [i, c] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'].entries()) BASE64[c.charCodeAt(0)] = i;
const COMMA = 44;
const SEMICOLON = 59;

/** What is wrong with a version 3 map's mappings (or a section's), or null when they decode. */
export function sourceMapProblem(map: Record<string, unknown>, where = ''): string | null {
  if (Array.isArray(map.sections)) {
    for (const [i, section] of map.sections.entries()) {
      const inner = (section as { map?: unknown } | null)?.map;
      if (typeof inner !== 'object' || inner === null) return `${where}sections[${i}] has no "map" object`;
      const problem = sourceMapProblem(inner as Record<string, unknown>, `${where}sections[${i}].map: `);
      if (problem) return problem;
    }
    return null;
  }
  if (typeof map.mappings !== 'string') return `${where}"mappings" is not a string`;
  const sources = Array.isArray(map.sources) ? map.sources.length : 0;
  const names = Array.isArray(map.names) ? map.names.length : 0;
  return mappingsProblem(map.mappings, sources, names, where);
}

/**
 * Walks the mappings: base64 VLQ numbers, 1, 4 or 5 to a segment, segments split by `,` and
 * lines by `;`; the positions they add up to are not negative, and the source and name indexes
 * name entries of `sources` and `names`. Says where the first problem is (line and segment of
 * the generated code).
 */
export function mappingsProblem(mappings: string, sources: number, names: number, where = ''): string | null {
  let line = 1;
  let segment = 1;
  let fields = 0;
  let value = 0;
  let shift = 0;
  let inNumber = false;
  // Every number adds to the one before it in its field: the generated column within its line,
  // the others across the whole map.
  let column = 0;
  let source = 0;
  let originalLine = 0;
  let originalColumn = 0;
  let name = 0;
  const at = (): string => `${where}"mappings" at generated line ${line}, segment ${segment}`;
  const endSegment = (): string | null => {
    if (inNumber) return `${at()}: a number is cut off`;
    if (fields !== 0 && fields !== 1 && fields !== 4 && fields !== 5) return `${at()}: ${fields} numbers in a segment (1, 4 or 5 expected)`;
    if (fields === 0) return null;
    if (column < 0) return `${at()}: the generated column is negative`;
    if (fields >= 4 && (originalLine < 0 || originalColumn < 0)) return `${at()}: the original line or column is negative`;
    if (fields >= 4 && (source < 0 || source >= sources)) return `${at()}: source ${source} does not exist ("sources" has ${sources})`;
    if (fields === 5 && (name < 0 || name >= names)) return `${at()}: name ${name} does not exist ("names" has ${names})`;
    return null;
  };
  for (let i = 0; i < mappings.length; i++) {
    const code = mappings.charCodeAt(i);
    if (code === COMMA || code === SEMICOLON) {
      const problem = endSegment();
      if (problem) return problem;
      fields = 0;
      if (code === SEMICOLON) {
        line++;
        segment = 1;
        column = 0;
      } else segment++;
      continue;
    }
    const digit = code < 128 ? BASE64[code]! : -1;
    if (digit < 0) return `${at()}: ${JSON.stringify(mappings[i])} is not a base64 digit`;
    value += (digit & 31) * 2 ** shift;
    if (digit & 32) {
      inNumber = true;
      shift += 5;
      if (shift > 30) return `${at()}: a number is too large`;
      continue;
    }
    const number = value % 2 === 1 ? -(value - 1) / 2 : value / 2;
    if (fields === 0) column += number;
    else if (fields === 1) source += number;
    else if (fields === 2) originalLine += number;
    else if (fields === 3) originalColumn += number;
    else if (fields === 4) name += number;
    fields++;
    value = 0;
    shift = 0;
    inNumber = false;
  }
  return endSegment();
}
