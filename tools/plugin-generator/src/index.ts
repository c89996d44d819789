// Makes a new plugin package of one kind (dcv, installer, issuer, notify) that builds, lints and passes its tests as made.
export { PLUGIN_KINDS, isPluginKind, nameProblem, pluginNames, type PluginKind, type PluginNames } from './plugin-name.js';
export { planPlugin, type PluginPlan } from './plan.js';
export { formatPlan } from './format.js';
export { writePlugin, GeneratorRefusal } from './write-plugin.js';
export { runGenerator, parseCommandLine, USAGE, type Output } from './command-line.js';
