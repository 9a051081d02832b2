export * from './layout.js';
export * from './check.js';
export * from './regions.js';
