import { serve } from '../shared/serve'
import { createApp } from './app'

const { app, container } = createApp()
serve(app, container, 'minimal-api example: POST /api/v1/users')
