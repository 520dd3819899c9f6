import { redisUnavailable } from '../support/redis'
import { requireService } from '../support/services'
import { bullmqFixture } from './bullmq-fixture'
import { CONTRACTS } from './index'

describe('engine contract: bullmq', () => {
  before(async function () {
    requireService(this, 'REDIS', await redisUnavailable())
  })
  for (const contract of CONTRACTS) contract(bullmqFixture)
})
