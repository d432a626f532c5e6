// Reading a classification data set: labelled texts from a TSV or CSV file (with or without a header row), a
// JSONL file of objects or a JSON array of them. The SMS Spam Collection's headerless `label<TAB>text` lines read as they are. Every
// problem a user can fix (a missing column, an empty text, a malformed line) is reported with the file and the
// line, before anything trains. Files are only read.
import { LlmLabError } from '../errors';

export const DATA_FORMATS = ['tsv', 'csv', 'jsonl', 'json'] as const;
export type DataFormat = (typeof DATA_FORMATS)[number];

/** One labelled example and the 1-based line of the file it starts on. */
export interface LabelledText {
  text: string;
  label: string;
  line: number;
}

export interface ReadOptions {
  /** Default: from the file's extension (.tsv .tab, .csv, .jsonl .ndjson; .json is an array or JSONL by its first character), else from its first line. */
  format?: DataFormat;
  /**
   * Where the text is: a JSONL key or a header column's name (case-insensitive), or a 1-based column number.
   * Default 'text'; in a headerless two-column file, the column that is not the label.
   */
  textField?: string;
  /** Where the label is, as textField. Default 'label'; in a headerless two-column file, the column with fewer distinct values. */
  labelField?: string;
  /** Fewest distinct labels accepted. Default 2 (training); 1 to measure a classifier on one class's examples. */
  minClasses?: number;
}

export interface ReadData {
  rows: LabelledText[];
  format: DataFormat;
  /** Whether the first row was a header (always false for JSON). */
  header: boolean;
  /** The columns used, as names (header or JSONL) or 1-based numbers. */
  textColumn: string;
  labelColumn: string;
}

/** A data error at a line of a file: what is wrong there and what to do. */
function badAt(file: string, line: number, what: string): LlmLabError {
  return new LlmLabError('bad-data', `${file}:${line}: ${what}`);
}

/** The format named by a file's extension, else guessed from its first non-empty line. */
export function detectFormat(file: string, text: string): DataFormat {
  const ext = /\.([a-z0-9]+)$/i.exec(file)?.[1]?.toLowerCase();
  if (ext === 'tsv' || ext === 'tab') return 'tsv';
  if (ext === 'csv') return 'csv';
  if (ext === 'jsonl' || ext === 'ndjson') return 'jsonl';
  const start = text.trimStart();
  if (start.startsWith('[')) return 'json';
  if (ext === 'json' || start.startsWith('{')) return 'jsonl';
  const first = text.split(/\r?\n/).find((l) => l.trim() !== '') ?? '';
  return first.includes('\t') ? 'tsv' : 'csv';
}

/** Rows of cells and the line each starts on. TSV has no quoting; CSV follows RFC 4180 (quoted cells may hold commas, quotes as "" and line breaks). */
export function splitDelimited(file: string, text: string, format: 'tsv' | 'csv'): { cells: string[]; line: number }[] {
  const out: { cells: string[]; line: number }[] = [];
  if (format === 'tsv') {
    text.split('\n').forEach((raw, i) => {
      const l = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (l.trim() !== '') out.push({ cells: l.split('\t'), line: i + 1 });
    });
    return out;
  }
  let line = 1;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const startLine = line;
    const cells: string[] = [];
    let cell = '';
    let blank = true;
    for (;;) {
      if (i < n && text[i] === '"' && cell === '') {
        const quoteLine = line;
        i++;
        for (;;) {
          if (i >= n) throw badAt(file, quoteLine, 'a quoted CSV field is never closed; add the closing " (a " inside a quoted field is written "").');
          const c = text[i];
          if (c === '"') {
            if (text[i + 1] === '"') {
              cell += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (c === '\n') line++;
          cell += c;
          i++;
        }
        blank = false;
        if (i < n && text[i] !== ',' && text[i] !== '\n' && !(text[i] === '\r' && text[i + 1] === '\n')) {
          throw badAt(file, line, `unexpected text after a quoted CSV field ('${text.slice(i, i + 10)}…'); quote the whole field, writing an inner " as "".`);
        }
      }
      if (i >= n || text[i] === '\n' || (text[i] === '\r' && text[i + 1] === '\n')) {
        cells.push(cell);
        if (i < n) i += text[i] === '\r' ? 2 : 1;
        line++;
        break;
      }
      if (text[i] === ',') {
        cells.push(cell);
        cell = '';
        blank = false;
        i++;
        continue;
      }
      if (text[i] !== ' ' && text[i] !== '\t' && text[i] !== '\r') blank = false;
      cell += text[i];
      i++;
    }
    if (!blank) out.push({ cells, line: startLine });
  }
  return out;
}

const isColumnNumber = (s: string): boolean => /^[1-9]\d*$/.test(s.trim());

/** Index of a named column in a header row (case-insensitive, trimmed), or -1. */
function columnIndex(header: string[], name: string): number {
  const want = name.trim().toLowerCase();
  return header.findIndex((h) => h.trim().toLowerCase() === want);
}

/** Labelled texts of a delimited file. */
function readDelimited(file: string, text: string, format: 'tsv' | 'csv', o: ReadOptions): ReadData {
  const rows = splitDelimited(file, text, format);
  if (rows.length === 0) throw new LlmLabError('bad-data', `${file} has no rows; give a ${format.toUpperCase()} file of labelled texts.`);
  const first = rows[0];
  const textName = o.textField ?? 'text';
  const labelName = o.labelField ?? 'label';
  const named = (f: string | undefined): boolean => f !== undefined && !isColumnNumber(f);
  let header = false;
  let ti: number;
  let li: number;
  const tHead = isColumnNumber(textName) ? -1 : columnIndex(first.cells, textName);
  const lHead = isColumnNumber(labelName) ? -1 : columnIndex(first.cells, labelName);
  if (tHead >= 0 || lHead >= 0) {
    header = true;
    const cols = first.cells.map((c) => `'${c.trim()}'`).join(', ');
    ti = isColumnNumber(textName) ? Number(textName) - 1 : tHead;
    li = isColumnNumber(labelName) ? Number(labelName) - 1 : lHead;
    if (ti < 0) throw badAt(file, first.line, `the header has no column '${textName}' (columns: ${cols}); name the text column with --text-field.`);
    if (li < 0) throw badAt(file, first.line, `the header has no column '${labelName}' (columns: ${cols}); name the label column with --label-field.`);
  } else if (named(o.textField) || named(o.labelField)) {
    const name = named(o.textField) ? o.textField : o.labelField;
    throw badAt(
      file,
      first.line,
      `there is no column '${name}': the first row (${first.cells.map((c) => `'${c.trim().slice(0, 20)}'`).join(', ')}) is not a header naming it. ` +
        'Give a header row, or the column numbers (e.g. --label-field 1 --text-field 2) for a file without one.',
    );
  } else if (isColumnNumber(textName) || isColumnNumber(labelName)) {
    if (!isColumnNumber(textName) || !isColumnNumber(labelName)) {
      throw new LlmLabError('bad-argument', `${file} has no header row, so give both columns by number (e.g. --label-field 1 --text-field 2).`);
    }
    ti = Number(textName) - 1;
    li = Number(labelName) - 1;
  } else {
    if (first.cells.length !== 2) {
      throw badAt(
        file,
        first.line,
        `the file has no header row naming 'text' and 'label' columns and ${first.cells.length} columns, so which is which is unclear; ` +
          'add a header row, or give the column numbers (e.g. --label-field 1 --text-field 2).',
      );
    }
    // Headerless text and label: the label is the column with fewer distinct values (the first on a tie).
    const distinct = [0, 1].map((j) => new Set(rows.map((r) => r.cells[j])).size);
    li = distinct[1] < distinct[0] ? 1 : 0;
    ti = 1 - li;
  }
  if (ti === li) throw new LlmLabError('bad-argument', `The text and the label cannot be the same column (${ti + 1}) of ${file}.`);
  const need = Math.max(ti, li) + 1;
  const out: LabelledText[] = [];
  for (const r of header ? rows.slice(1) : rows) {
    if (r.cells.length < need) {
      throw badAt(file, r.line, `the line has ${r.cells.length} field(s) but the ${ti > li ? 'text' : 'label'} is in column ${need}; every line needs a label and a text${format === 'tsv' ? ' separated by a tab' : ''}.`);
    }
    if (r.cells.length !== first.cells.length) {
      throw badAt(
        file,
        r.line,
        `the line has ${r.cells.length} fields but the first has ${first.cells.length}` +
          (format === 'tsv' ? ' (a tab inside the text?); remove stray tabs.' : ' (an unquoted comma inside the text?); put such fields in double quotes.'),
      );
    }
    out.push({ text: r.cells[ti], label: r.cells[li].trim(), line: r.line });
  }
  const column = (i: number): string => (header ? first.cells[i].trim() : String(i + 1));
  return { rows: out, format, header, textColumn: column(ti), labelColumn: column(li) };
}

/** One JSON value checked as a labelled example; `line` is where it starts, for messages. */
function labelledOf(file: string, line: number, v: unknown, o: ReadOptions, what: string): LabelledText {
  const textField = o.textField ?? 'text';
  const labelField = o.labelField ?? 'label';
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw badAt(file, line, `the ${what} is not a JSON object; write {"text": …, "label": …} objects.`);
  const obj = v as Record<string, unknown>;
  const keys = Object.keys(obj).map((k) => `'${k}'`).join(', ') || 'none';
  const t = obj[textField];
  const l = obj[labelField];
  if (t === undefined) throw badAt(file, line, `the object has no field '${textField}' (fields: ${keys}); name the text field with --text-field.`);
  if (l === undefined) throw badAt(file, line, `the object has no field '${labelField}' (fields: ${keys}); name the label field with --label-field.`);
  if (typeof t !== 'string') throw badAt(file, line, `field '${textField}' is ${JSON.stringify(t)?.slice(0, 30)}, not a string.`);
  if (typeof l !== 'string' && typeof l !== 'number' && typeof l !== 'boolean') {
    throw badAt(file, line, `field '${labelField}' is ${JSON.stringify(l)?.slice(0, 30)}; a label must be a string, a number or true/false.`);
  }
  return { text: t, label: String(l).trim(), line };
}

/** Labelled texts of a JSONL file: one object a line. */
function readJsonl(file: string, text: string, o: ReadOptions): ReadData {
  const out: LabelledText[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch {
      throw badAt(file, line, 'the line is not valid JSON; each line of a JSONL file must be one object such as {"text": "…", "label": "…"}.');
    }
    out.push(labelledOf(file, line, v, o, 'line'));
  });
  return { rows: out, format: 'jsonl', header: false, textColumn: o.textField ?? 'text', labelColumn: o.labelField ?? 'label' };
}

/**
 * The 1-based line on which each element of a JSON array's top level starts. `text` must already parse as an
 * array; the scan only tracks strings (with escapes) and nesting depth.
 */
export function arrayElementLines(text: string): number[] {
  const lines: number[] = [];
  let line = 1;
  let depth = 0;
  let inString = false;
  let expectElement = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') line++;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') continue;
    if (depth === 1 && expectElement && c !== ']') {
      lines.push(line);
      expectElement = false;
    }
    if (c === '"') inString = true;
    else if (c === '[' || c === '{') {
      depth++;
      if (depth === 1) expectElement = true;
    } else if (c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 1) expectElement = true;
  }
  return lines;
}

/** Labelled texts of a JSON array of objects; each is reported by the line it starts on. */
function readJsonArray(file: string, text: string, o: ReadOptions): ReadData {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new LlmLabError('bad-data', `${file} starts like a JSON array but is not valid JSON (${(e as Error).message}); fix it, or write one object a line (JSONL).`);
  }
  if (!Array.isArray(v)) throw new LlmLabError('bad-data', `${file} is JSON but not an array; give an array of {"text": …, "label": …} objects, or JSONL.`);
  const lines = arrayElementLines(text);
  const out = v.map((item, i) => labelledOf(file, lines[i] ?? 1, item, o, `element ${i + 1} of the array`));
  return { rows: out, format: 'json', header: false, textColumn: o.textField ?? 'text', labelColumn: o.labelField ?? 'label' };
}

/**
 * Parses a data set's text (`file` names it in messages). Refuses empty texts and labels, malformed lines,
 * missing columns and a set with fewer than two classes, each with the file and line.
 */
export function parseClassificationData(file: string, text: string, o: ReadOptions = {}): ReadData {
  const format = o.format ?? detectFormat(file, text);
  const data = format === 'jsonl' ? readJsonl(file, text, o) : format === 'json' ? readJsonArray(file, text, o) : readDelimited(file, text, format, o);
  if (data.rows.length === 0) throw new LlmLabError('bad-data', `${file} has ${data.header ? 'a header but ' : ''}no examples; add labelled texts.`);
  for (const r of data.rows) {
    if (r.text.trim() === '') throw badAt(file, r.line, 'the text is empty; remove the line or give it a text.');
    if (r.label === '') throw badAt(file, r.line, 'the label is empty; every example needs a label.');
  }
  const labels = new Set(data.rows.map((r) => r.label));
  if (labels.size < (o.minClasses ?? 2)) {
    throw new LlmLabError('bad-data', `${file}: every example has the label '${[...labels][0]}'; a classifier needs at least two classes.`);
  }
  return data;
}

/** The classes in a fixed order: numerically when every label is a whole number, else by code point. */
export function sortLabels(labels: Iterable<string>): string[] {
  const all = [...new Set(labels)];
  if (all.every((l) => /^-?\d+$/.test(l))) return all.sort((a, b) => Number(a) - Number(b));
  return all.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
