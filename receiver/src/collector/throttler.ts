import { readFile } from 'node:fs/promises';
import type { Annotations } from '../../../shared/src/protocol.ts';

/**
 * Throttle rules in the spirit of Antenna's throttler: an ordered list, the first rule whose
 * conditions all match decides; when none matches the crash is accepted. A rules file is JSON:
 *
 *     [
 *       { "name": "no_test_builds", "if": { "Version": "/-test$/" }, "action": "reject" },
 *       { "name": "sample_beta", "if": { "ProductName": "Shop", "Version": "/beta/" }, "action": "sample", "rate": 0.1 },
 *       { "name": "everything_else", "action": "accept" }
 *     ]
 *
 * A condition's value is an exact string, or `/regex/flags`; `"*"` only asks that the annotation
 * is present. `sample` accepts that share of matching crashes and rejects the rest.
 */
export interface ThrottleRule {
  name: string;
  if?: Record<string, string>;
  action: 'accept' | 'reject' | 'sample';
  rate?: number;
}

export interface ThrottleDecision {
  accept: boolean;
  rule: string;
}

export const DEFAULT_RULE_NAME = 'accept_everything';

type Matcher = (value: string | undefined) => boolean;

interface CompiledRule {
  rule: ThrottleRule;
  matchers: [string, Matcher][];
}

export class Throttler {
  readonly #rules: CompiledRule[];
  /** How many crashes each rule accepted and rejected since start. */
  readonly counts = new Map<string, { accepted: number; rejected: number }>();

  constructor(
    rules: ThrottleRule[] = [],
    private readonly random: () => number = Math.random,
  ) {
    const problems = rules.flatMap((r, i) => validateRule(r, i));
    if (problems.length) throw new Error(`Invalid throttle rules:\n  ${problems.join('\n  ')}`);
    this.#rules = rules.map((rule) => ({
      rule,
      matchers: Object.entries(rule.if ?? {}).map(([k, v]) => [k, compileMatcher(v)] as [string, Matcher]),
    }));
  }

  /** Reads and validates a rules file; every problem is reported at once. */
  static async fromFile(path: string): Promise<Throttler> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(path, 'utf8'));
    } catch (err) {
      throw new Error(`Could not read throttle rules ${path}: ${(err as Error).message}`, { cause: err });
    }
    if (!Array.isArray(parsed)) throw new Error(`Throttle rules ${path} must be a JSON array of rules`);
    return new Throttler(parsed as ThrottleRule[]);
  }

  throttle(annotations: Annotations): ThrottleDecision {
    const match = this.#rules.find(({ matchers }) => matchers.every(([key, m]) => m(annotations[key])));
    let decision: ThrottleDecision;
    if (!match) decision = { accept: true, rule: DEFAULT_RULE_NAME };
    else if (match.rule.action === 'sample') decision = { accept: this.random() < (match.rule.rate ?? 1), rule: match.rule.name };
    else decision = { accept: match.rule.action === 'accept', rule: match.rule.name };
    const count = this.counts.get(decision.rule) ?? { accepted: 0, rejected: 0 };
    if (decision.accept) count.accepted++;
    else count.rejected++;
    this.counts.set(decision.rule, count);
    return decision;
  }
}

function compileMatcher(pattern: string): Matcher {
  if (pattern === '*') return (v) => v !== undefined;
  const regex = /^\/(.*)\/([a-z]*)$/s.exec(pattern);
  if (regex) {
    const re = new RegExp(regex[1]!, regex[2]);
    return (v) => v !== undefined && re.test(v);
  }
  return (v) => v === pattern;
}

function validateRule(rule: ThrottleRule, index: number): string[] {
  const where = `rule ${index + 1}`;
  if (!rule || typeof rule !== 'object') return [`${where}: must be an object`];
  const problems: string[] = [];
  if (typeof rule.name !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(rule.name)) {
    problems.push(`${where}: "name" must be 1-64 letters, digits, _ . -`);
  }
  if (!['accept', 'reject', 'sample'].includes(rule.action)) problems.push(`${where}: "action" must be accept, reject or sample`);
  if (rule.action === 'sample' && !(typeof rule.rate === 'number' && rule.rate >= 0 && rule.rate <= 1)) {
    problems.push(`${where}: a sample rule needs "rate" between 0 and 1`);
  }
  for (const [key, value] of Object.entries(rule.if ?? {})) {
    if (typeof value !== 'string') problems.push(`${where}: condition ${key} must be a string`);
    else {
      try {
        compileMatcher(value);
      } catch (err) {
        problems.push(`${where}: condition ${key}: ${(err as Error).message}`);
      }
    }
  }
  return problems;
}
