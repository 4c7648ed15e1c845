export * from './parse.ts';
export * from './extension-urls.ts';
