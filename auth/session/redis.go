package session

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis keeps sessions in Redis under Prefix+key with a TTL.
type Redis struct {
	client *redis.Client
	prefix string
	now    func() time.Time
}

// NewRedis returns a Redis backend. url is redis://host:port/N.
func NewRedis(url, prefix string, now func() time.Time) (*Redis, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, err
	}
	c := redis.NewClient(opt)
	if err := c.Ping(context.Background()).Err(); err != nil {
		return nil, err
	}
	return &Redis{client: c, prefix: prefix, now: now}, nil
}

// Load returns the record.
func (r *Redis) Load(ctx context.Context, key string) ([]byte, bool, error) {
	b, err := r.client.Get(ctx, r.prefix+key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	return b, err == nil, err
}

// Save writes the record with a TTL that ends at expires.
func (r *Redis) Save(ctx context.Context, key string, data []byte, expires time.Time) error {
	ttl := expires.Sub(r.now())
	if ttl <= 0 {
		return r.Delete(ctx, key)
	}
	return r.client.Set(ctx, r.prefix+key, data, ttl).Err()
}

// Delete removes the record.
func (r *Redis) Delete(ctx context.Context, key string) error {
	return r.client.Del(ctx, r.prefix+key).Err()
}

// Close closes the client.
func (r *Redis) Close() error { return r.client.Close() }

// Client exposes the client for tests that clean up their prefix.
func (r *Redis) Client() *redis.Client { return r.client }

// Ping checks that Redis answers (the readiness probe).
func (r *Redis) Ping(ctx context.Context) error { return r.client.Ping(ctx).Err() }
