/**
 * Typed errors at module boundaries. The CLI prints `message` as one line and exits with `exitCode`;
 * nothing below the CLI prints or exits.
 */
export class MemlensError extends Error {
  constructor(message: string, readonly exitCode: number) {
    super(message);
    this.name = new.target.name;
  }
}

/** The file is not a model we can read: truncated, corrupt, hostile, or a format we do not know. Exit 2. */
export class ModelFormatError extends MemlensError {
  constructor(message: string) {
    super(message, 2);
  }
}

/** A shape rule met inputs it can not handle (wrong rank, inconsistent dims). Exit 2 at the CLI. */
export class ShapeError extends MemlensError {
  constructor(readonly node: string, readonly op: string, detail: string) {
    super(`${op} node '${node}': ${detail}`, 2);
  }
}

/** Bad input other than the model: an image that does not fit, an unreadable file. Exit 2. */
export class InputError extends MemlensError {
  constructor(message: string) {
    super(message, 2);
  }
}

/** The command line itself is wrong. Exit 1. */
export class UsageError extends MemlensError {
  constructor(message: string) {
    super(message, 1);
  }
}
