import type { EmulatorExchange, LlmEmulatorFault } from './llm-emulator-server.ts';
import type { PolicyReply } from './llm-policy.ts';
import { openAIErrorForStatus, openAIId, planReply, type PlannedReply } from './openai-emulator-wire.ts';

/**
 * The Responses API (`POST /v1/responses`): SSE with an `event:` line per event and a `sequence_number`,
 * no `[DONE]`. Text goes out as a `message` item (output_item.added → content_part.added →
 * output_text.delta… → output_text.done → content_part.done → output_item.done), each tool call as a
 * `function_call` item with argument deltas, then `response.completed` (or `response.incomplete`).
 */

interface ResponsesGeneration {
  model: string;
  reply: PolicyReply;
  promptTokens: number;
  maxTokens: number | undefined;
}

type OutputItem = Record<string, unknown>;

function responseObject(
  exchange: EmulatorExchange,
  id: string,
  model: string,
  status: 'in_progress' | 'completed' | 'incomplete',
  output: OutputItem[],
  usage: unknown,
  maxTokens: number | undefined,
) {
  const body = exchange.request.body as Record<string, unknown>;
  return {
    id,
    object: 'response',
    created_at: Math.floor(Date.now() / 1000),
    status,
    background: false,
    error: null,
    incomplete_details: status === 'incomplete' ? { reason: 'max_output_tokens' } : null,
    instructions: typeof body.instructions === 'string' ? body.instructions : null,
    max_output_tokens: maxTokens ?? null,
    model,
    output,
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    service_tier: 'default',
    store: body.store !== false,
    temperature: typeof body.temperature === 'number' ? body.temperature : 1,
    text: { format: { type: 'text' } },
    tool_choice: 'auto',
    tools: Array.isArray(body.tools) ? body.tools : [],
    top_p: 1,
    truncation: 'disabled',
    usage,
    user: null,
    metadata: {},
  };
}

function usageOf(promptTokens: number, plan: PlannedReply) {
  return {
    input_tokens: promptTokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: plan.completionTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: promptTokens + plan.completionTokens,
  };
}

function finalItems(plan: PlannedReply, messageId: string): OutputItem[] {
  const items: OutputItem[] = [];
  if (plan.textTokens.length > 0) {
    items.push({
      id: messageId,
      type: 'message',
      status: plan.truncated ? 'incomplete' : 'completed',
      content: [{ type: 'output_text', annotations: [], logprobs: [], text: plan.textTokens.join('') }],
      role: 'assistant',
    });
  }
  for (const call of plan.toolCalls) {
    items.push({
      id: `fc_${call.id.slice('call_'.length)}`,
      type: 'function_call',
      status: 'completed',
      arguments: call.arguments,
      call_id: call.id,
      name: call.name,
    });
  }
  return items;
}

export async function streamResponses(
  exchange: EmulatorExchange,
  generation: ResponsesGeneration & { fault: LlmEmulatorFault | undefined },
): Promise<void> {
  const { model, reply, promptTokens, maxTokens, fault } = generation;
  const plan = planReply(reply, maxTokens);
  const responseId = openAIId('resp_', 48);
  const messageId = openAIId('msg_', 48);
  let sequence = 0;
  const send = (type: string, fields: Record<string, unknown>): void => {
    exchange.writeEvent(JSON.stringify({ type, sequence_number: sequence++, ...fields }), { event: type });
  };

  // Token-paced steps: each returns nothing; `token` steps wait for their slot first.
  const steps: Array<{ token: boolean; run: () => void }> = [];
  let outputIndex = 0;
  if (plan.textTokens.length > 0) {
    const index = outputIndex++;
    const item = { id: messageId, type: 'message', status: 'in_progress', content: [], role: 'assistant' };
    const where = { item_id: messageId, output_index: index, content_index: 0 };
    steps.push({ token: false, run: () => send('response.output_item.added', { output_index: index, item }) });
    steps.push({
      token: false,
      run: () => send('response.content_part.added', { ...where, part: { type: 'output_text', annotations: [], logprobs: [], text: '' } }),
    });
    for (const token of plan.textTokens) {
      steps.push({ token: true, run: () => send('response.output_text.delta', { ...where, delta: token, logprobs: [] }) });
    }
    const text = plan.textTokens.join('');
    const part = { type: 'output_text', annotations: [], logprobs: [], text };
    steps.push({
      token: false,
      run: () => {
        send('response.output_text.done', { ...where, text, logprobs: [] });
        send('response.content_part.done', { ...where, part });
        send('response.output_item.done', {
          output_index: index,
          item: { ...item, status: plan.truncated ? 'incomplete' : 'completed', content: [part] },
        });
      },
    });
  }
  for (const call of plan.toolCalls) {
    const index = outputIndex++;
    const itemId = `fc_${call.id.slice('call_'.length)}`;
    const item = { id: itemId, type: 'function_call', status: 'in_progress', arguments: '', call_id: call.id, name: call.name };
    steps.push({ token: true, run: () => send('response.output_item.added', { output_index: index, item }) });
    for (const piece of call.argumentPieces) {
      steps.push({
        token: true,
        run: () => send('response.function_call_arguments.delta', { item_id: itemId, output_index: index, delta: piece }),
      });
    }
    steps.push({
      token: false,
      run: () => {
        send('response.function_call_arguments.done', { item_id: itemId, output_index: index, arguments: call.arguments });
        send('response.output_item.done', {
          output_index: index,
          item: { ...item, status: 'completed', arguments: call.arguments },
        });
      },
    });
  }

  if (!(await exchange.waitForToken(0))) return;
  exchange.startEventStream();
  const inProgress = responseObject(exchange, responseId, model, 'in_progress', [], null, maxTokens);
  send('response.created', { response: inProgress });
  send('response.in_progress', { response: inProgress });
  let tokenIndex = 0;
  for (const step of steps) {
    if (step.token) {
      if (fault?.kind === 'mid-stream-error' && tokenIndex === fault.afterTokens) {
        const { error } = openAIErrorForStatus(fault, model);
        send('error', { code: error.code ?? error.type, message: error.message, param: null });
        exchange.request.outcome = 'failed';
        exchange.end();
        return;
      }
      if (fault?.kind === 'hang' && tokenIndex === fault.afterTokens) {
        await exchange.waitForDisconnect();
        return;
      }
      if (!(await exchange.waitForToken(tokenIndex++))) return;
    }
    step.run();
  }
  const status = plan.truncated ? 'incomplete' : 'completed';
  send(`response.${status}`, {
    response: responseObject(exchange, responseId, model, status, finalItems(plan, messageId), usageOf(promptTokens, plan), maxTokens),
  });
  exchange.end();
}

export async function respondResponses(exchange: EmulatorExchange, generation: ResponsesGeneration): Promise<void> {
  const { model, reply, promptTokens, maxTokens } = generation;
  const plan = planReply(reply, maxTokens);
  if (!(await exchange.waitForToken(plan.completionTokens))) return;
  const status = plan.truncated ? 'incomplete' : 'completed';
  exchange.sendJson(
    200,
    responseObject(
      exchange,
      openAIId('resp_', 48),
      model,
      status,
      finalItems(plan, openAIId('msg_', 48)),
      usageOf(promptTokens, plan),
      maxTokens,
    ),
  );
  exchange.request.outcome = 'completed';
}
