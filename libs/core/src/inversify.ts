// inversify, as certsmith uses it: the one Container class every plugin's ContainerModule is loaded into.
// Every first-party package imports it from here (through @certsmith/core), never from 'inversify', so that a built
// run has one inversify. The build (scripts/bundle-inversify.mjs) replaces the compiled dist/inversify.js with an
// esbuild bundle of this very module: inversify 8 loaded as one file instead of ~250 small ESM modules, which cost
// ~0.1 s of CPU on every run (docs/performance.md). Sources, tests and types still read the real package: same code, same version.
export { Container, ContainerModule } from 'inversify';
