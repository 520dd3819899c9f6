import { serve } from '../shared/serve'
import { createApp } from './app'

const { app, container } = createApp()
serve(app, container, 'express-controller example: POST /user/add')
