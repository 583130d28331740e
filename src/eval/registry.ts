// Finding tasks by name: a task is a file in operators/eval/tasks (NAME.ts default-exporting a Task, or
// NAME.json, a task as data: json-task.ts), or any such file given by path. src/ never imports
// operators/, so the folder is read and its files are loaded by path at run time, as the operator
// registry loads operators by id.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Task } from './task.ts';

export const PACKAGE_TASKS_DIR = fileURLToPath(new URL('../../operators/eval/tasks/', import.meta.url));
/** Turns a task as data into a Task (it builds on the task builders and metrics in operators/eval). */
export const JSON_TASK_MODULE = fileURLToPath(new URL('../../operators/eval/json-task.ts', import.meta.url));

async function jsonTask(data: unknown, file: string): Promise<Task> {
  const mod = (await import(pathToFileURL(JSON_TASK_MODULE).href)) as { jsonTask?: unknown };
  if (typeof mod.jsonTask !== 'function') throw new Error(`${JSON_TASK_MODULE} exports no jsonTask(data, file)`);
  return (mod.jsonTask as (d: unknown, f: string) => Task)(data, file);
}

const isTask = (v: unknown): v is Task =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as Task).name === 'string' &&
  typeof (v as Task).docs === 'function' &&
  typeof (v as Task).requests === 'function' &&
  typeof (v as Task).process === 'function';

/** The candidate task files in `dir` by base name: NAME.ts and NAME.json (whether a .ts file is a task
 * is known on load: shared builders in the folder default-export none). */
export function taskFiles(dir = PACKAGE_TASKS_DIR): Map<string, string> {
  const out = new Map<string, string>();
  if (!existsSync(dir)) return out;
  for (const f of readdirSync(dir).sort()) {
    const ext = extname(f);
    if (ext !== '.ts' && ext !== '.json') continue;
    out.set(basename(f, ext), join(dir, f));
  }
  return out;
}

/** A task from a file (.ts/.js default export, or .json). */
export async function loadTaskFile(file: string): Promise<Task | undefined> {
  if (extname(file) === '.json') {
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new Error(`task file ${file}: not valid JSON (${(e as Error).message})`);
    }
    return await jsonTask(data, file);
  }
  const mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
  return isTask(mod.default) ? mod.default : undefined;
}

/** Every shipped task, by name (files that export no task, such as shared builders, are left out). */
export async function shippedTasks(dir = PACKAGE_TASKS_DIR): Promise<Map<string, Task>> {
  const out = new Map<string, Task>();
  for (const [, file] of taskFiles(dir)) {
    const t = await loadTaskFile(file);
    if (t) out.set(t.name, t);
  }
  return out;
}

/** Tasks by name or path, in the order given; 'all' stands for every shipped task. Unknown names fail
 * with the list of known ones. */
export async function loadTasks(names: readonly string[], dir = PACKAGE_TASKS_DIR): Promise<Task[]> {
  if (names.length === 0) throw new Error('no tasks given; name one or more (flowlm eval --list shows them)');
  const files = taskFiles(dir);
  const out: Task[] = [];
  for (const name of names) {
    if (name === 'all') {
      out.push(...(await shippedTasks(dir)).values());
      continue;
    }
    const looksLikePath = name.includes('/') || name.endsWith('.json') || name.endsWith('.ts');
    if (!looksLikePath && !files.has(name)) {
      // a task whose name differs from its file's
      const byName = (await shippedTasks(dir)).get(name);
      if (byName) {
        out.push(byName);
        continue;
      }
    }
    const file = looksLikePath ? resolve(name) : files.get(name);
    if (!file || !existsSync(file)) {
      const known = [...(await shippedTasks(dir)).keys()].join(', ');
      throw new Error(
        looksLikePath ? `task file ${name} does not exist` : `unknown task "${name}"; shipped tasks: ${known}`,
      );
    }
    const t = await loadTaskFile(file);
    if (!t) throw new Error(`${file} does not default-export a task (defineTask from src/eval/task.ts)`);
    out.push(t);
  }
  const seen = new Set<string>();
  for (const t of out) {
    if (seen.has(t.name)) throw new Error(`task "${t.name}" is given twice`);
    seen.add(t.name);
  }
  return out;
}
