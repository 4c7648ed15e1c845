/** Browser and OS from a User-Agent string, for facets and search. Unknown parts are null. */
export function parseUserAgent(ua: string | undefined | null): { browser: { name: string; version: string } | null; os: string | null } {
  if (!ua) return { browser: null, os: null };
  // Real ones are a few hundred characters; anyone's submission can send a MiB.
  const clipped = ua.slice(0, MAX_USER_AGENT_CHARS);
  return { browser: browserOf(clipped), os: osOf(clipped) };
}

/** The part of a User-Agent read: real ones are under 512 characters. */
export const MAX_USER_AGENT_CHARS = 1024;

// Order matters: Edge and Opera say Chrome too, Chrome says Safari, iOS browsers say Safari.
const BROWSERS: [string, RegExp][] = [
  ['Edge', /\bEdg(?:e|A|iOS)?\/([\d.]+)/],
  ['Opera', /\bOPR\/([\d.]+)/],
  ['Samsung Internet', /\bSamsungBrowser\/([\d.]+)/],
  ['Firefox', /\b(?:Firefox|FxiOS)\/([\d.]+)/],
  ['Chromium', /\bChromium\/([\d.]+)/],
  ['Chrome', /\b(?:Chrome|CriOS|HeadlessChrome)\/([\d.]+)/],
];

function browserOf(ua: string): { name: string; version: string } | null {
  for (const [name, re] of BROWSERS) {
    const m = re.exec(ua);
    if (m) return { name, version: m[1]! };
  }
  // Safari: `Version/17.4 … Safari/`, read in two linear steps (`Version\/…\.\*Safari` backtracks
  // quadratically over a text of many `Version/`).
  const version = /\bVersion\/([\d.]+)/.exec(ua);
  if (version && /\bSafari\//.test(ua.slice(version.index))) return { name: 'Safari', version: version[1]! };
  return null;
}

function osOf(ua: string): string | null {
  if (/\b(iPhone|iPad|iPod)\b/.test(ua)) return 'iOS';
  if (/\bAndroid\b/.test(ua)) return 'Android';
  if (/\bWindows\b/.test(ua)) return 'Windows';
  if (/\bCrOS\b/.test(ua)) return 'ChromeOS';
  if (/\bMac OS X\b|\bMacintosh\b/.test(ua)) return 'macOS';
  if (/\bLinux\b|\bX11\b/.test(ua)) return 'Linux';
  return null;
}
