/**
 * Finds the function that encloses a position in JavaScript or TypeScript source, by a light
 * tokenizer and brace matching (no full parser: sources may be TypeScript, JSX or minified).
 * Used to name a symbolicated frame after the original function it ran in: the map's `names`
 * entry at a call site names the callee, not the caller.
 */

export interface FunctionRange {
  /** `name`, `Class.method`, or `outer/<` for an anonymous function inside `outer`; null for top-level anonymous. */
  name: string | null;
  /** The function's own name token (`total` of `Cart.total`), when it has one. */
  nameToken: NameToken | null;
  /** A method's class or object name token (`Cart` of `Cart.total`), when it has one. */
  ownerToken: NameToken | null;
  /** For an anonymous function: the function its `outer/<` name comes from. */
  outer: FunctionRange | null;
  start: number;
  end: number;
}

/**
 * A name in the source and where it is (1-based line, 0-based column): in a minified script,
 * the place to ask the source map for the original name.
 */
export interface NameToken {
  text: string;
  at: { line: number; column: number };
  /** A string key (esbuild's `__publicField(this, "onClick", …)`): no minifier renames it. */
  literal?: boolean;
}

export interface ScopeIndex {
  /** The innermost function containing the position (1-based line, 0-based column), or null. */
  enclosing(line: number, column: number): FunctionRange | null;
  /** Characters on a line (1-based), without its line break; null past the last line. */
  lineLength(line: number): number | null;
  /** False when the text is over MAX_SCAN_CHARS: no function is found in it then. */
  readonly scanned: boolean;
}

interface Token {
  type: 'name' | 'punct' | 'string' | 'number' | 'template' | 'regex';
  /** Names and punctuation only ('' for the others, so a string "{" never reads as a brace). */
  value: string;
  /** A string's content, without its quotes or unescaping. */
  text?: string;
  start: number;
  end: number;
}

const KEYWORDS_NOT_NAMES = new Set([
  'if', 'for', 'while', 'switch', 'catch', 'with', 'function', 'return', 'typeof', 'do', 'else', 'try', 'finally',
  'new', 'delete', 'void', 'in', 'of', 'instanceof', 'case', 'throw', 'await', 'yield',
]);
const METHOD_MODIFIERS = new Set(['async', 'static', 'get', 'set', 'public', 'private', 'protected', 'readonly', 'override', 'abstract', '*']);
/** Sources and scripts larger than this are not scanned (their frames get no original function name). */
export const MAX_SCAN_CHARS = 5 * 1024 * 1024;

/** Builds the index of function ranges and line lengths of `source`. */
export function indexScopes(source: string): ScopeIndex {
  const lineStarts = [0];
  for (let i = 0; i < source.length; i++) if (source.charCodeAt(i) === 10) lineStarts.push(i + 1);
  const toOffset = (line: number, column: number): number => (lineStarts[line - 1] ?? source.length) + column;
  const toPosition = (offset: number): { line: number; column: number } => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - lineStarts[lo]! };
  };
  // Found on the first `enclosing` call: checking a position against line lengths needs no tokens.
  let nesting: Nesting | null = null;
  const scanned = source.length <= MAX_SCAN_CHARS;
  return {
    scanned,
    enclosing(line, column) {
      nesting ??= nest(scanned ? findFunctions(tokenize(source), source.length, toPosition) : []);
      return nesting.innermost(toOffset(line, column));
    },
    lineLength(line) {
      const start = lineStarts[line - 1];
      if (start === undefined) return null;
      const next = lineStarts[line];
      const end = next === undefined ? source.length : next - 1;
      return end - start - (source.charCodeAt(end - 1) === 13 ? 1 : 0);
    },
  };
}

interface Nesting {
  innermost(offset: number): FunctionRange | null;
}

/**
 * Function ranges by start, each with the one it lies in, so the innermost around a position is
 * found by a binary search and a walk out, not a pass over every function of a large bundle
 * (which every frame asks, once per frame). Ranges nest or are apart, as functions do.
 */
function nest(ranges: FunctionRange[]): Nesting {
  const sorted = [...ranges].sort((a, b) => a.start - b.start || b.end - a.end);
  const parent = new Int32Array(sorted.length);
  const open: number[] = [];
  for (let i = 0; i < sorted.length; i++) {
    while (open.length && sorted[open.at(-1)!]!.end <= sorted[i]!.start) open.pop();
    parent[i] = open.at(-1) ?? -1;
    open.push(i);
  }
  return {
    innermost(offset) {
      // The last range starting at or before the offset, then out to the first that contains it.
      let lo = 0;
      let hi = sorted.length - 1;
      let i = -1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (sorted[mid]!.start <= offset) {
          i = mid;
          lo = mid + 1;
        } else hi = mid - 1;
      }
      while (i >= 0 && offset >= sorted[i]!.end) i = parent[i]!;
      return i >= 0 ? sorted[i]! : null;
    },
  };
}

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  // Template literal nesting: a `${` inside a template pushes, its `}` resumes the template.
  const braceStack: ('brace' | 'template')[] = [];
  let i = 0;
  const n = src.length;
  const regexAllowed = (): boolean => {
    const prev = tokens[tokens.length - 1];
    if (!prev) return true;
    if (prev.type === 'name') return KEYWORDS_NOT_NAMES.has(prev.value);
    if (prev.type === 'punct') return !(prev.value === ')' || prev.value === ']' || prev.value === '}');
    return false;
  };
  const readTemplate = (from: number): number => {
    // From just after ` or }, up to and including the closing ` or the ${ (which pushes).
    let j = from;
    while (j < n) {
      const c = src[j];
      if (c === '\\') j += 2;
      else if (c === '`') return j + 1;
      else if (c === '$' && src[j + 1] === '{') {
        braceStack.push('template');
        return j + 2;
      } else j++;
    }
    return n;
  };
  while (i < n) {
    const c = src[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c === '/' && src[i + 1] === '/') {
      const e = src.indexOf('\n', i);
      i = e < 0 ? n : e;
      continue;
    }
    if (c === '/' && src[i + 1] === '*') {
      const e = src.indexOf('*/', i + 2);
      i = e < 0 ? n : e + 2;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < n && src[j] !== c && src[j] !== '\n') j += src[j] === '\\' ? 2 : 1;
      tokens.push({ type: 'string', value: '', text: src.slice(i + 1, j), start: i, end: j + 1 });
      i = j + 1;
      continue;
    }
    if (c === '`') {
      const e = readTemplate(i + 1);
      tokens.push({ type: 'template', value: '', start: i, end: e });
      i = e;
      continue;
    }
    if (/[A-Za-z_$\u00a0-\uffff]/.test(c)) {
      let j = i + 1;
      while (j < n && /[\w$\u00a0-\uffff]/.test(src[j]!)) j++;
      tokens.push({ type: 'name', value: src.slice(i, j), start: i, end: j });
      i = j;
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      let j = i + 1;
      while (j < n && /[\w.]/.test(src[j]!)) j++;
      tokens.push({ type: 'number', value: '', start: i, end: j });
      i = j;
      continue;
    }
    if (c === '/' && regexAllowed()) {
      let j = i + 1;
      let inClass = false;
      while (j < n && src[j] !== '\n') {
        const d = src[j];
        if (d === '\\') j++;
        else if (d === '[') inClass = true;
        else if (d === ']') inClass = false;
        else if (d === '/' && !inClass) break;
        j++;
      }
      j++;
      while (j < n && /\w/.test(src[j]!)) j++;
      tokens.push({ type: 'regex', value: '', start: i, end: j });
      i = j;
      continue;
    }
    if (c === '=' && src[i + 1] === '>') {
      tokens.push({ type: 'punct', value: '=>', start: i, end: i + 2 });
      i += 2;
      continue;
    }
    if (c === '{') braceStack.push('brace');
    if (c === '}') {
      if (braceStack.pop() === 'template') {
        const e = readTemplate(i + 1);
        tokens.push({ type: 'template', value: '', start: i, end: e });
        i = e;
        continue;
      }
    }
    tokens.push({ type: 'punct', value: c, start: i, end: i + 1 });
    i++;
  }
  return tokens;
}

interface Open {
  char: string;
  /** For `{`: what the block is. */
  kind: 'function' | 'class' | 'object' | 'block' | 'paren';
  name: string | null;
  nameAt: number | null;
  start: number;
  /** Expression-bodied arrows that end when this nesting level closes or at a `,`/`;` in it. */
  arrows: FunctionRange[];
  /** The innermost function this level is in (itself, if it is one). */
  inFunction: FunctionRange | null;
}

/**
 * For each `)` token, the index of the `(` it closes (-1 when none), found in one pass: looking
 * back from every `)` instead took time quadratic in the source, and a hostile source map
 * (`x)=>1)=>1…`, a few hundred KB) held the event loop for minutes.
 */
function matchParens(tokens: Token[]): Int32Array {
  const opens = new Int32Array(tokens.length).fill(-1);
  const stack: number[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.type !== 'punct') continue;
    if (t.value === '(') stack.push(i);
    else if (t.value === ')') opens[i] = stack.pop() ?? -1;
  }
  return opens;
}

function findFunctions(tokens: Token[], length: number, toPosition: (o: number) => { line: number; column: number }): FunctionRange[] {
  const opens = matchParens(tokens);
  const out: FunctionRange[] = [];
  const stack: Open[] = [{ char: '', kind: 'block', name: null, nameAt: null, start: 0, arrows: [], inFunction: null }];
  const top = (): Open => stack[stack.length - 1]!;
  const closeArrows = (open: Open, at: number): void => {
    for (const a of open.arrows) {
      a.end = at;
      out.push(a);
    }
    open.arrows = [];
  };
  const token = (text: string | null, at: number | null, literal = false): NameToken | null =>
    text === null || at === null ? null : { text, at: toPosition(at), ...(literal ? { literal } : {}) };
  /** A range whose end is set when it closes; an anonymous one is named after the function around it. */
  const range = (header: Header, start: number, owner: Open | null): FunctionRange => {
    // Kept on each level rather than looked up the stack: a deeply nested hostile source would
    // make every arrow in it walk thousands of levels.
    const outer = top().inFunction;
    if (header.name === null) return { name: outer?.name ? `${outer.name.replace(/\/<$/, '')}/<` : null, nameToken: null, ownerToken: null, outer, start, end: start };
    const ownerToken = owner?.name ? token(owner.name, owner.nameAt) : null;
    return {
      name: owner?.name ? `${owner.name}.${header.name}` : header.name,
      nameToken: token(header.name, header.nameAt, header.literal),
      ownerToken,
      outer: null,
      start,
      end: start,
    };
  };

  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.type !== 'punct') continue;
    const v = t.value;
    if (v === '(' || v === '[') {
      stack.push({ char: v, kind: 'paren', name: null, nameAt: null, start: t.start, arrows: [], inFunction: top().inFunction });
    } else if (v === ')' || v === ']') {
      if (stack.length > 1) closeArrows(stack.pop()!, t.start);
    } else if (v === '{') {
      const header = describeBlock(tokens, opens, i, top());
      if (header.kind === 'function') {
        const cls = top();
        const fn = range(header, t.start, header.method && (cls.kind === 'class' || cls.kind === 'object') ? cls : null);
        stack.push({ char: '{', kind: 'function', name: fn.name, nameAt: header.nameAt, start: t.start, arrows: [], inFunction: fn });
      } else {
        stack.push({ char: '{', kind: header.kind, name: header.name, nameAt: header.nameAt, start: t.start, arrows: [], inFunction: top().inFunction });
      }
    } else if (v === '}') {
      if (stack.length > 1) {
        const open = stack.pop()!;
        closeArrows(open, t.start);
        if (open.kind === 'function' && open.inFunction) {
          open.inFunction.end = t.end;
          out.push(open.inFunction);
        }
      }
    } else if (v === ',' || v === ';') {
      closeArrows(top(), t.start);
    } else if (v === '=>' && tokens[i + 1]?.value !== '{') {
      top().arrows.push(range(arrowHeader(tokens, opens, i), t.end, null));
    }
  }
  for (const open of stack) closeArrows(open, length);
  return out;
}


interface Header {
  name: string | null;
  /** Offset of the name token. */
  nameAt: number | null;
  /** The name is a string key. */
  literal?: boolean;
}

/** The name an assigned or property value gets: `name = …`, `name: …`, `this.name = …`. */
function assignedName(tokens: Token[], before: number): Header {
  const op = tokens[before];
  const target = tokens[before - 1];
  if (op?.type === 'punct' && (op.value === '=' || op.value === ':') && target?.type === 'name') {
    return { name: target.value, nameAt: target.start };
  }
  // A class field as esbuild lowers it for older targets: `__publicField(this, "onClick", () => …)`.
  const key = tokens[before - 1];
  if (op?.value === ',' && key?.type === 'string' && /^[\w$]+$/.test(key.text ?? '') && tokens[before - 2]?.value === ',' && tokens[before - 3]?.value === 'this' && tokens[before - 4]?.value === '(') {
    return { name: key.text!, nameAt: key.start + 1, literal: true };
  }
  return { name: null, nameAt: null };
}

function arrowHeader(tokens: Token[], opens: Int32Array, arrow: number): Header {
  let j = arrow - 1;
  // `(a, b): T =>` — skip a return type back to `)`.
  j = skipTypeAnnotation(tokens, j);
  if (tokens[j]?.value === ')') j = opens[j]! - 1;
  else j -= 1; // single parameter `x =>`
  if (tokens[j]?.value === '>') j = skipGenericsBack(tokens, j);
  if (tokens[j]?.value === 'async') j--;
  return assignedName(tokens, j);
}

/** Type parameters are short: looking further back than this for the `<` is not worth it. */
const MAX_GENERICS_TOKENS = 200;

function skipGenericsBack(tokens: Token[], gt: number): number {
  let depth = 0;
  for (let j = gt; j >= 0 && gt - j < MAX_GENERICS_TOKENS; j--) {
    const v = tokens[j]!.value;
    if (v === '>') depth++;
    else if (v === '<' && --depth === 0) return j - 1;
  }
  return gt;
}

/** From the token before `{` or `=>`, steps back over a TypeScript return type `): T` to the `)`. */
function skipTypeAnnotation(tokens: Token[], j: number): number {
  if (tokens[j]?.value === ')' || tokens[j]?.value === '=>') return j;
  for (let k = j, steps = 0; k > 0 && steps < 40; k--, steps++) {
    const t = tokens[k]!;
    if (t.value === ':' && tokens[k - 1]?.value === ')') return k - 1;
    if (t.type === 'punct' && !['<', '>', '.', '[', ']', '|', '&', ',', '?', '(', ')', '=>'].includes(t.value)) return j;
  }
  return j;
}

function describeBlock(
  tokens: Token[],
  opens: Int32Array,
  brace: number,
  parent: Open,
): Header & { kind: Open['kind']; method: boolean } {
  let j = skipTypeAnnotation(tokens, brace - 1);
  const prev = tokens[j];
  if (!prev) return { kind: 'block', name: null, nameAt: null, method: false };
  if (prev.value === '=>') {
    const h = arrowHeader(tokens, opens, j);
    return { kind: 'function', ...h, method: false };
  }
  // `class Name extends Base {`
  for (let k = j, steps = 0; k >= 0 && steps < 12; k--, steps++) {
    const t = tokens[k]!;
    if (t.type === 'name' && t.value === 'class') {
      const named = tokens[k + 1]?.type === 'name' && tokens[k + 1]!.value !== 'extends' ? tokens[k + 1]! : null;
      const assigned = assignedName(tokens, k - 1);
      return { kind: 'class', name: named?.value ?? assigned.name, nameAt: named?.start ?? assigned.nameAt, method: false };
    }
    if (t.type === 'punct' && !['.', '<', '>', ',', '(', ')'].includes(t.value)) break;
  }
  if (prev.value === ')') {
    j = opens[j]! - 1;
    if (tokens[j]?.value === '>') j = skipGenericsBack(tokens, j);
    const before = tokens[j];
    if (!before) return { kind: 'block', name: null, nameAt: null, method: false };
    if (before.value === 'function') {
      const assigned = assignedName(tokens, j - 1);
      return { kind: 'function', ...assigned, method: false };
    }
    if (before.value === '*' && tokens[j - 1]?.value === 'function') {
      return { kind: 'function', ...assignedName(tokens, j - 2), method: false };
    }
    if (before.type === 'name' && !KEYWORDS_NOT_NAMES.has(before.value)) {
      let k = j - 1;
      while (k >= 0 && tokens[k]!.value === '*') k--;
      if (tokens[k]?.value === 'function') return { kind: 'function', name: before.value, nameAt: before.start, method: false };
      // A call followed by a block is not a function (`foo(x) {` does not occur in valid JS outside
      // class bodies and object literals, where it is a method).
      const inBody = parent.kind === 'class' || parent.kind === 'object';
      const modifier = METHOD_MODIFIERS.has(tokens[k]?.value ?? '');
      if (inBody || modifier || tokens[k]?.value === ',' || tokens[k]?.value === '{' || tokens[k]?.value === '}' || tokens[k]?.value === ';') {
        return { kind: 'function', name: before.value === 'constructor' ? 'constructor' : before.value, nameAt: before.start, method: true };
      }
    }
    if (before.type === 'punct' && before.value === ']') {
      return { kind: 'function', name: null, nameAt: null, method: true };
    }
    return { kind: 'block', name: null, nameAt: null, method: false };
  }
  // Object literals: `name = {`, `name: {`, `({`, `return {`, `[{`.
  if (prev.value === '=' || prev.value === ':' || prev.value === '(' || prev.value === ',' || prev.value === '[' || prev.value === 'return') {
    const assigned = prev.value === '=' || prev.value === ':' ? assignedName(tokens, j) : { name: null, nameAt: null };
    return { kind: 'object', name: assigned.name, nameAt: assigned.nameAt, method: false };
  }
  return { kind: 'block', name: null, nameAt: null, method: false };
}
