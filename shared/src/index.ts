export * from './crash-id.ts';
export * from './protocol.ts';
