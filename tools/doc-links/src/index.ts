// Finds what a tracked file points at outside the repository, so that docs and comments stand on their own.
export { outsidePointers, headingAnchors, type OutsidePointer, type RepositoryFiles } from './outside-pointers.js';
