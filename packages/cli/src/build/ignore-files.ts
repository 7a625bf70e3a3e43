// A package folder's ignore file, read as the tool it is written for reads it: `.dockerignore`
// (Docker: every pattern from the folder's root), `.npmignore` and `.gitignore` (git: a pattern
// without a slash matches at any depth). Only the folder's own file, not its subfolders'.
import { existsSync, readFileSync, statSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import ignore from 'ignore'

/** Why a build leaves out every dot-file and dot-folder, whatever an ignore file says. */
export const DOT_FILE = 'a dot-file or dot-folder (never copied: .env, .npmrc, .git and the like)'

/** Why a path is left out (`listed in .gitignore`), or `undefined` when it is copied. */
export type IgnoreRules = (path: string) => string | undefined

/**
 * The rules of the first of `files` that `root` has, or `undefined` when it has none.
 * @example
 * ignoreRules('/repo/api', ['.dockerignore', '.gitignore'])?.('/repo/api/server.key') // 'listed in .gitignore'
 */
export function ignoreRules(root: string, files: readonly string[]): IgnoreRules | undefined {
  for (const file of files) {
    const at = join(root, file)
    if (!existsSync(at)) continue
    let lines = readFileSync(at, 'utf8').split(/\r?\n/)
    if (file === '.dockerignore') lines = lines.map(dockerToGit)
    const rules = ignore().add(lines)
    const reason = `listed in ${file}`
    return (path) => {
      const rel = relative(root, path).split(sep).join('/')
      if (rel === '' || rel.startsWith('..')) return undefined
      return rules.ignores(statSync(path).isDirectory() ? `${rel}/` : rel) ? reason : undefined
    }
  }
  return undefined
}

// A .dockerignore line as a .gitignore line with the same meaning here: Docker matches every
// pattern from the context's root (`secrets.json` is only the top one), git a slash-less one at
// any depth, so each is anchored with a leading `/` unless it starts with `**`.
function dockerToGit(line: string): string {
  const trimmed = line.trim()
  if (trimmed === '' || trimmed.startsWith('#')) return ''
  const negated = trimmed.startsWith('!')
  const pattern = (negated ? trimmed.slice(1) : trimmed).replace(/^\.?\/+/, '')
  const anchored = pattern.startsWith('**') ? pattern : `/${pattern}`
  return negated ? `!${anchored}` : anchored
}
