/**
 * Names and paths from a model file end up in error messages printed to a terminal. A hostile file could
 * carry escape sequences or megabytes in a name, so messages quote them through this: control characters
 * escaped, length capped, always one line.
 */
const MAX_QUOTED_CHARS = 120;

export function quote(text: string, maxChars = MAX_QUOTED_CHARS): string {
  const cut = text.length > maxChars ? text.slice(0, maxChars) : text;
  const safe = escapeControls(cut);
  return `'${safe}${text.length > maxChars ? `...' (${text.length} chars)` : "'"}`;
}

/** C0, DEL, C1 and the Unicode line/paragraph separators and bidi controls: never printed raw. */
export function escapeControls(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) =>
    `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
