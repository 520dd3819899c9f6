import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import path from 'node:path'
import { promisify } from 'node:util'

const ROOT = path.resolve(__dirname, '..')

describe('type tests (test/types)', function () {
  // One tsc run over src and test/types; its duration depends on the machine, not on the code.
  this.timeout(120_000)

  it('compile, every `@ts-expect-error` line failing as it must', async () => {
    const tsc = require.resolve('typescript/bin/tsc')
    const result = await promisify(execFile)(
      process.execPath,
      [tsc, '--noEmit', '--pretty', 'false', '-p', 'test/types/tsconfig.json'],
      { cwd: ROOT },
    ).then(
      ({ stdout, stderr }) => ({ code: 0, output: stdout + stderr }),
      (error: { code?: unknown; stdout?: string; stderr?: string }) => ({
        code: error.code,
        output: `${error.stdout ?? ''}${error.stderr ?? ''}`,
      }),
    )
    assert.deepEqual(result, { code: 0, output: '' })
  })
})
