import { CONTRACTS } from './index'
import { memoryFixture } from './memory-fixture'

describe('engine contract: memory', () => {
  for (const contract of CONTRACTS) contract(memoryFixture)
})
