import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { alpacaPrompt, alpacaResponse, loadChatTemplate, promptMessages, renderChat } from '../../../src-main/model/prompt'

let tmp: string
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'figa-prompt-'))
})
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

const CHATML =
  "{%- for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{%- endfor %}" +
  "{%- if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{%- endif %}"

const LLAMA2 =
  "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}" +
  "{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}" +
  "{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}" +
  "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}"

describe('Alpaca template', () => {
  it('matches the official FIGA prompt without input', () => {
    expect(alpacaPrompt({ instruction: 'Name a color.' })).toBe(
      'Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n' +
        '### Instruction:\nName a color.\n\n### Response:',
    )
  })

  it('matches the official FIGA prompt with input', () => {
    expect(alpacaPrompt({ instruction: 'Translate.', input: 'Bonjour $1 $&' })).toBe(
      'Below is an instruction that describes a task, paired with an input that provides further context. ' +
        'Write a response that appropriately completes the request.\n\n### Instruction:\nTranslate.\n\n### Input:\nBonjour $1 $&\n\n### Response:',
    )
  })

  it('treats an empty input as none, puts system text first, and appends " response" + eos', () => {
    expect(alpacaPrompt({ instruction: 'x', input: '' })).toBe(alpacaPrompt({ instruction: 'x' }))
    expect(alpacaPrompt({ instruction: 'x', system: 'Be brief.' }).startsWith('Be brief.\n\nBelow is an instruction')).toBe(true)
    expect(alpacaResponse('Blue.', '</s>')).toBe(' Blue.</s>')
  })
})

describe('chat templates', () => {
  it('renders a ChatML template with and without the generation prompt', () => {
    const info = { template: CHATML, bosToken: null, eosToken: '<|im_end|>', padToken: null, unkToken: null }
    const msgs = [
      { role: 'system', content: 'You are helpful.' },
      { role: 'user', content: 'Hi' },
    ]
    expect(renderChat(info, msgs)).toBe('<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n')
    expect(renderChat(info, msgs, { addGenerationPrompt: false })).toBe('<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n')
  })

  it('loads tokenizer_config.json (AddedToken objects, bos/eos) and renders a Llama-2 template', async () => {
    const dir = path.join(tmp, 'llama2')
    fs.mkdirSync(dir)
    fs.writeFileSync(
      path.join(dir, 'tokenizer_config.json'),
      JSON.stringify({ chat_template: LLAMA2, bos_token: { content: '<s>', lstrip: false }, eos_token: '</s>' }),
    )
    const info = await loadChatTemplate(dir)
    expect(info).not.toBeNull()
    expect(info!.bosToken).toBe('<s>')
    const out = renderChat(info!, [
      { role: 'system', content: 'Sys' },
      { role: 'user', content: ' Q1 ' },
      { role: 'assistant', content: 'A1' },
      { role: 'user', content: 'Q2' },
    ])
    expect(out).toBe('<s>[INST] <<SYS>>\nSys\n<</SYS>>\n\n Q1 [/INST] A1 </s><s>[INST] Q2 [/INST]')
    expect(() => renderChat(info!, [{ role: 'assistant', content: 'x' }])).toThrow(/roles must alternate/)
  })

  it('picks the default of a list of named templates, or chat_template.jinja', async () => {
    const dir = path.join(tmp, 'list')
    fs.mkdirSync(dir)
    fs.writeFileSync(
      path.join(dir, 'tokenizer_config.json'),
      JSON.stringify({ chat_template: [{ name: 'tool_use', template: 'TOOLS' }, { name: 'default', template: CHATML }] }),
    )
    expect((await loadChatTemplate(dir))!.template).toBe(CHATML)
    expect((await loadChatTemplate(dir, 'tool_use'))!.template).toBe('TOOLS')
    await expect(loadChatTemplate(dir, 'nope')).rejects.toThrow(/does not exist/)
    fs.writeFileSync(path.join(dir, 'chat_template.jinja'), '{{ messages[0].content }}!')
    const info = (await loadChatTemplate(dir))!
    expect(renderChat(info, [{ role: 'user', content: 'hey' }])).toBe('hey!')
  })

  it('returns null when the model has no template', async () => {
    const dir = path.join(tmp, 'none')
    fs.mkdirSync(dir)
    expect(await loadChatTemplate(dir)).toBeNull()
    fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), '{"eos_token": "</s>"}')
    expect(await loadChatTemplate(dir)).toBeNull()
  })

  it('builds chat messages from a FIGA prompt', () => {
    expect(promptMessages({ instruction: 'Do', input: 'this', system: 'S' })).toEqual([
      { role: 'system', content: 'S' },
      { role: 'user', content: 'Do\n\nthis' },
    ])
  })
})
