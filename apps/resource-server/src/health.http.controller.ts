import { Controller, Get } from '@nestjs/common';

@Controller('health')
export class HealthHttpController {
  @Get()
  health() {
    return { status: 'ok' };
  }
}
