// A policy operators tune as a ConfigMap (knative/base/<system>/policy.yaml, its data.policy.yaml): in a
// cluster the ConfigMap is mounted and an environment variable names the file (the mount path by default in
// production); on a laptop the manifest itself is read, so what an operator writes is what runs. The document
// is YAML checked against its JSON Schema; a policy that does not hold together stops the function at
// start-up, naming the field at fault.
import { existsSync, readFileSync } from 'node:fs';
import { load as loadYaml } from 'js-yaml';
import { problemsOf, type JsonSchema } from './validate';
import { refuse } from './config';

export interface PolicyFileSpec<T> {
  /** In messages: "the dead-letter policy", the ConfigMap "dead-letter-policy". */
  name: string;
  /** The variable naming the mounted file, e.g. DEAD_LETTER_POLICY_FILE. */
  env: string;
  /** Where the Services mount it, read by default in production. */
  mounted: string;
  /** The manifest in the repository (laptops, tests). */
  manifest: string;
  schema: JsonSchema;
  /** The checked document as the system uses it. */
  build(doc: unknown): T;
}

export interface PolicyFile<T> {
  /** Parses and checks a policy document; errors name `where` and the field at fault. */
  parse(text: string, where: string): T;
  /** The policy in force (read once). */
  get(): T;
  /** Forget the loaded policy (tests that write their own file). */
  reload(): void;
  /** Reads the policy now: a function that needs it refuses to start without it. */
  assert(): void;
}

export function policyFile<T>(spec: PolicyFileSpec<T>): PolicyFile<T> {
  let loaded: T | undefined;
  const parse = (text: string, where: string): T => {
    let doc: unknown;
    try {
      doc = loadYaml(text);
    } catch (err) {
      throw new Error(`${where}: not YAML (${(err as Error).message.split('\n')[0]})`);
    }
    const problems = problemsOf(spec.schema, doc, 'policy');
    if (problems.length) throw new Error(`${where}: ${problems.map((p) => `${p.name} ${p.reason}`).join('; ')}`);
    return spec.build(doc);
  };
  const get = (): T => {
    if (loaded) return loaded;
    const file = process.env[spec.env] || (process.env.NODE_ENV === 'production' ? spec.mounted : undefined);
    if (file) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        throw new Error(`the ${spec.name} policy ${file} cannot be read (${(err as NodeJS.ErrnoException).code}): mount the ${spec.name}-policy ConfigMap there, or set ${spec.env}`);
      }
      return (loaded = parse(text, file));
    }
    if (!existsSync(spec.manifest)) throw new Error(`${spec.env} must name the ${spec.name} policy (policy.yaml of the ${spec.name}-policy ConfigMap)`);
    const manifest = loadYaml(readFileSync(spec.manifest, 'utf8')) as { data?: Record<string, string> };
    if (typeof manifest?.data?.['policy.yaml'] !== 'string') throw new Error(`${spec.manifest}: data.policy.yaml is required`);
    return (loaded = parse(manifest.data['policy.yaml'], spec.manifest));
  };
  return { parse, get, reload: () => { loaded = undefined; }, assert: () => refuse(get) };
}
