import { loadModelFile, type LoadedModel } from "../formats/load-node.js";

/** Load a model for a command; errors are typed (ModelFormatError, exit 2) and carry the file name once. */
export function loadForCli(path: string): LoadedModel {
  return loadModelFile(path);
}
