// A .gitignore matcher for choosing training files: VS Code's findFiles honours files.exclude but not
// .gitignore, so the extension reads the workspace's .gitignore files and filters with this. It covers
// what git users write (comments, `!` negation, trailing `/` for folders, anchored `/x` and `a/b`, `*`,
// `?`, `**`, `[...]`) and nested .gitignore files. Pure: no `vscode`, unit-tested.

interface Rule {
  /** Folder of the .gitignore, posix, relative to the root ('' for the root). */
  base: string;
  regex: RegExp;
  negate: boolean;
  dirOnly: boolean;
}

function globToRegex(glob: string, anchored: boolean): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      if (glob[i + 1] === '*') {
        const atStart = i === 0 || glob[i - 1] === '/';
        const atEnd = i + 2 === glob.length;
        if (atStart && glob[i + 2] === '/') {
          re += '(?:.*/)?';
          i += 2;
          continue;
        }
        if (atStart && atEnd) {
          re += '.*';
          i += 1;
          continue;
        }
        re += '[^/]*';
        i += 1;
        continue;
      }
      re += '[^/]*';
    } else if (c === '?') {
      re += '[^/]';
    } else if (c === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close < 0) {
        re += '\\[';
        continue;
      }
      let body = glob.slice(i + 1, close);
      if (body.startsWith('!')) body = '^' + body.slice(1);
      re += `[${body.replace(/\\/g, '\\\\')}]`;
      i = close;
    } else if (c === '\\' && i + 1 < glob.length) {
      re += glob[++i].replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    } else {
      re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    }
  }
  return new RegExp(anchored ? `^${re}$` : `^(?:.*/)?${re}$`);
}

export class GitignoreRules {
  private readonly rules: Rule[] = [];

  /** Adds the rules of one .gitignore found in folder `base` (posix, relative to the root). */
  add(base: string, content: string): void {
    const dir = base.replace(/^\.?\/?/, '').replace(/\/$/, '');
    for (let line of content.split(/\r?\n/)) {
      if (!line.trim() || line.startsWith('#')) continue;
      line = line.replace(/(?<!\\)\s+$/, '');
      let negate = false;
      if (line.startsWith('!')) {
        negate = true;
        line = line.slice(1);
      } else if (line.startsWith('\\!') || line.startsWith('\\#')) {
        line = line.slice(1);
      }
      let dirOnly = false;
      if (line.endsWith('/')) {
        dirOnly = true;
        line = line.slice(0, -1);
      }
      if (!line) continue;
      const anchored = line.includes('/');
      if (line.startsWith('/')) line = line.slice(1);
      this.rules.push({ base: dir, regex: globToRegex(line, anchored), negate, dirOnly });
    }
    // Shallower .gitignore files first, so deeper ones (later) win, as in git.
    this.rules.sort((a, b) => a.base.split('/').filter(Boolean).length - b.base.split('/').filter(Boolean).length);
  }

  get size(): number {
    return this.rules.length;
  }

  /** Whether a path (posix, relative to the root) is ignored, counting ignored parent folders. */
  ignores(relPath: string, isDir = false): boolean {
    const parts = relPath.replace(/^\.?\//, '').split('/').filter(Boolean);
    for (let i = 1; i < parts.length; i++) {
      if (this.matchOne(parts.slice(0, i).join('/'), true)) return true;
    }
    return this.matchOne(parts.join('/'), isDir);
  }

  private matchOne(path: string, isDir: boolean): boolean {
    let ignored = false;
    for (const r of this.rules) {
      if (r.dirOnly && !isDir) continue;
      let rel = path;
      if (r.base) {
        if (!path.startsWith(r.base + '/')) continue;
        rel = path.slice(r.base.length + 1);
      }
      if (r.regex.test(rel)) ignored = !r.negate;
    }
    return ignored;
  }
}
