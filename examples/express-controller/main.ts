import { engineFromEnvironment } from '../shared/register-user'
import { serve } from '../shared/serve'
import { createApp } from './app'

// On BullMQ when REDIS_URL is set (redis://127.0.0.1:6379), else in memory.
const options = engineFromEnvironment()
const { app, container } = createApp(options)
serve(app, container, 'express-controller example: POST /user/add')
