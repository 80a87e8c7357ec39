/**
 * Piscina's entry for page threads, in CommonJS on purpose. Piscina loads its entry with
 * `require()`, and Node 20 loads an ES module that way through require(esm): a thread terminated
 * in the middle of that (a pool destroyed while it starts, a stuck page's thread replaced) aborts
 * the whole process with a V8 fatal error ("IsGraphAsync must be used on an instantiated module").
 * `import()` of the same module stops cleanly. Piscina awaits the default export, so a thread is
 * ready only once worker.js has loaded, as before.
 */
const handleTask = import('./worker.js').then((worker) => worker.default);

export = { __esModule: true, default: handleTask };
