/**
 * Socorro's rule runner: an ordered list of small rules, each with a name, a predicate and an
 * action, over one context object. A rule that throws does not stop the rest; the runner
 * records `rule X failed: ErrorName` (never the message: it may carry page data).
 */
export interface Rule<C> {
  name: string;
  predicate(ctx: C): boolean | Promise<boolean>;
  action(ctx: C): void | Promise<void>;
}

export async function runRules<C extends { notes: string[] }>(rules: readonly Rule<C>[], ctx: C): Promise<void> {
  for (const rule of rules) {
    try {
      if (await rule.predicate(ctx)) await rule.action(ctx);
    } catch (err) {
      ctx.notes.push(`rule ${rule.name} failed: ${errorName(err)}`);
    }
  }
}

/** An error's class name, safe to show: letters, digits and `_` only. */
export function errorName(err: unknown): string {
  const name = err instanceof Error ? err.name : typeof err;
  return /^[A-Za-z_][\w]{0,60}$/.test(name) ? name : 'Error';
}
