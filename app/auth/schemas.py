from marshmallow import fields

from app.api_support import ApiSchema, ResponseSchema


class TokenRequestSchema(ApiSchema):
    email = fields.String(required=True)
    password = fields.String(required=True, load_only=True)


class TokenResponseSchema(ResponseSchema):
    token = fields.String()
