// A toy two-class data set for the classification tests: fruit or tools, a few words each.

const FRUIT = ['apple', 'pear', 'plum', 'cherry', 'mango', 'grape'];
const TOOLS = ['hammer', 'saw', 'drill', 'wrench', 'chisel', 'pliers'];

/** `n` rows of each class: a few words of fruit or of tools, as label<TAB>text. */
export function toyTsv(n: number): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const pick = (words: string[], k: number): string => Array.from({ length: 2 + (i % 3) }, (_, j) => words[(i * 7 + j * 5 + k) % words.length]).join(' ');
    lines.push(`fruit\t${pick(FRUIT, 1)}`);
    lines.push(`tool\t${pick(TOOLS, 2)}`);
  }
  return lines.join('\n') + '\n';
}
