from marshmallow import Schema, fields


class TokenRequestSchema(Schema):
    email = fields.String(required=True)
    password = fields.String(required=True, load_only=True)


class TokenResponseSchema(Schema):
    token = fields.String(required=True)
