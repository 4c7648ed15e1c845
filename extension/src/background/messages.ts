/** Messages the extension's own pages (popup, options) send to the background. */
export const RETRY_NOW_MESSAGE = 'socorrito:retry-now';
export const CLEAR_HISTORY_MESSAGE = 'socorrito:clear-history';
