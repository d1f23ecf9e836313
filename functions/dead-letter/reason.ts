// What a consumer said when it refused an event, as one line an operator reads: the title and detail of its
// problem+json answer, else the answer's text. The intake reads it from Knative's knativeerrordata; a retry
// from the consumer's own answer.

/** The reason an answer's body gives: "title: detail" of problem+json, else the text itself. */
export function reasonOf(body: string): string | undefined {
  if (!body) return undefined;
  try {
    const problem = JSON.parse(body) as { title?: string; detail?: string };
    return [problem.title, problem.detail].filter(Boolean).join(': ') || body;
  } catch {
    return body;
  }
}

/** The same from knativeerrordata: the consumer's answer as Knative passes it on, base64. */
export function decodeReason(data: string | undefined): string | undefined {
  return data ? reasonOf(Buffer.from(data, 'base64').toString('utf8')) : undefined;
}
