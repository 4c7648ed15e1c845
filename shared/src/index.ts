export * from './crash-id.ts';
export * from './protocol.ts';
export * from './scrub.ts';
